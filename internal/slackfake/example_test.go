package slackfake_test

import (
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/sitrep-dev/sitrep/internal/slackfake"
)

func Example() {
	fake := slackfake.New(slackfake.WithClock(func() time.Time { return time.Unix(1700000000, 0) }))
	defer fake.Close()
	api := slack.New(fake.BotToken(), slack.OptionAPIURL(fake.URL()))

	ch, err := api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-1-checkout-down"})
	if err != nil {
		panic(err)
	}
	_, ts, err := api.PostMessage(ch.ID, slack.MsgOptionText("SEV1 declared", false))
	if err != nil {
		panic(err)
	}
	_, err = api.CreateConversation(slack.CreateConversationParams{ChannelName: "inc-1-checkout-down"})
	fmt.Println(err)

	for _, m := range fake.Messages(ch.ID) {
		fmt.Println(m.TS == ts, m.User == fake.BotUserID(), m.Text)
	}
	// Output:
	// name_taken
	// true true SEV1 declared
}
